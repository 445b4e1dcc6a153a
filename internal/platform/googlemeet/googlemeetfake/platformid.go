package googlemeetfake

// PlatformID is the registry id of the platform this fake stands in for,
// for the sandbox to set the platform's API URL to the fake's.
const PlatformID = "google-meet"
