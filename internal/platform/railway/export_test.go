package railway

// Documents is every GraphQL document the client can send, for the
// contract checks; it is compiled into tests only.
func Documents() []string {
	return []string{docMe, docAPIToken, docProjectToken, docProjects, docServiceConnect, docDomains, docProjectCreate, docProjectEnvs, docProjectServices, docServiceCreate, docDomainCreate,
		docVariablesUpsert, docTemplate, docTemplateDeploy, docWorkflowStatus, docDeploy, docDeployment,
		docBuildLogs, docDeploymentRollbak, docDeploymentCancel}
}
