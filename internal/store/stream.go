package store

import "github.com/aws/aws-lambda-go/events"

// DeploymentRef names one deployment of one tenant.
type DeploymentRef struct{ Tenant, ID string }

// DeploymentFromStream reads the deployment a stream record names: a new
// deployment item, or a resume ticket the sweep wrote (both carry its
// tenant and id). ok is false for a record that names none.
func DeploymentFromStream(rec events.DynamoDBEventRecord) (DeploymentRef, bool) {
	img := rec.Change.NewImage
	ref := DeploymentRef{Tenant: streamString(img, "tenant"), ID: streamString(img, "id")}
	return ref, ref.Tenant != "" && ref.ID != ""
}

func streamString(img map[string]events.DynamoDBAttributeValue, name string) string {
	v, ok := img[name]
	if !ok || v.DataType() != events.DataTypeString {
		return ""
	}
	return v.String()
}
