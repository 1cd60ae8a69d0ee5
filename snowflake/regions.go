package snowflake

import "strings"

// regions maps Snowflake region IDs (CURRENT_REGION(), without a region
// group) to the cloud and its region, as Snowflake's table of region IDs
// lists them. The "commercial gov" regions are in the commercial AWS
// partition; the _FHPLUS and _DOD ones are in AWS GovCloud (US).
// https://docs.snowflake.com/en/user-guide/admin-account-identifier#region-ids
var regions = map[string]struct{ cloud, region string }{
	"AWS_US_WEST_2":            {"AWS", "us-west-2"},
	"AWS_US_GOV_WEST_2":        {"AWS", "us-west-2"},
	"AWS_US_GOV_WEST_1":        {"AWS", "us-gov-west-1"},
	"AWS_US_GOV_WEST_1_FHPLUS": {"AWS", "us-gov-west-1"},
	"AWS_US_GOV_WEST_1_DOD":    {"AWS", "us-gov-west-1"},
	"AWS_US_EAST_2":            {"AWS", "us-east-2"},
	"AWS_US_EAST_1":            {"AWS", "us-east-1"},
	"AWS_US_GOV_EAST_1":        {"AWS", "us-east-1"},
	"AWS_US_EAST_1_GOV":        {"AWS", "us-east-1"},
	"AWS_US_GOV_EAST_1_FHPLUS": {"AWS", "us-gov-east-1"},
	"AWS_CA_CENTRAL_1":         {"AWS", "ca-central-1"},
	"AWS_SA_EAST_1":            {"AWS", "sa-east-1"},
	"AWS_AF_SOUTH_1":           {"AWS", "af-south-1"},
	"AWS_EU_WEST_1":            {"AWS", "eu-west-1"},
	"AWS_EU_WEST_2":            {"AWS", "eu-west-2"},
	"AWS_EU_WEST_3":            {"AWS", "eu-west-3"},
	"AWS_EU_CENTRAL_1":         {"AWS", "eu-central-1"},
	"AWS_EU_CENTRAL_2":         {"AWS", "eu-central-2"},
	"AWS_EU_NORTH_1":           {"AWS", "eu-north-1"},
	"AWS_ME_CENTRAL_1":         {"AWS", "me-central-1"},
	"AWS_AP_NORTHEAST_1":       {"AWS", "ap-northeast-1"},
	"AWS_AP_NORTHEAST_2":       {"AWS", "ap-northeast-2"},
	"AWS_AP_NORTHEAST_3":       {"AWS", "ap-northeast-3"},
	"AWS_AP_SOUTH_1":           {"AWS", "ap-south-1"},
	"AWS_AP_SOUTHEAST_1":       {"AWS", "ap-southeast-1"},
	"AWS_AP_SOUTHEAST_2":       {"AWS", "ap-southeast-2"},
	"AWS_AP_SOUTHEAST_3":       {"AWS", "ap-southeast-3"},
	"AWS_AP_SOUTHEAST_5":       {"AWS", "ap-southeast-5"},
	"AWS_AP_SOUTHEAST_6":       {"AWS", "ap-southeast-6"},
	"AWS_AP_SOUTHEAST_7":       {"AWS", "ap-southeast-7"},
	"AWS_CN_NORTHWEST_1":       {"AWS", "cn-northwest-1"},

	"GCP_US_CENTRAL1":          {"GCP", "us-central1"},
	"GCP_US_EAST4":             {"GCP", "us-east4"},
	"GCP_EUROPE_WEST2":         {"GCP", "europe-west2"},
	"GCP_EUROPE_WEST3":         {"GCP", "europe-west3"},
	"GCP_EUROPE_WEST4":         {"GCP", "europe-west4"},
	"GCP_ME_CENTRAL2":          {"GCP", "me-central2"},
	"GCP_AUSTRALIA_SOUTHEAST2": {"GCP", "australia-southeast2"},

	"AZURE_WESTUS2":              {"AZURE", "westus2"},
	"AZURE_CENTRALUS":            {"AZURE", "centralus"},
	"AZURE_SOUTHCENTRALUS":       {"AZURE", "southcentralus"},
	"AZURE_EASTUS":               {"AZURE", "eastus"},
	"AZURE_EASTUS2":              {"AZURE", "eastus2"},
	"AZURE_USGOVVIRGINIA":        {"AZURE", "usgovvirginia"},
	"AZURE_USGOVVIRGINIA_FHPLUS": {"AZURE", "usgovvirginia"},
	"AZURE_CANADACENTRAL":        {"AZURE", "canadacentral"},
	"AZURE_MEXICOCENTRAL":        {"AZURE", "mexicocentral"},
	"AZURE_UKSOUTH":              {"AZURE", "uksouth"},
	"AZURE_NORTHEUROPE":          {"AZURE", "northeurope"},
	"AZURE_SWEDENCENTRAL":        {"AZURE", "swedencentral"},
	"AZURE_WESTEUROPE":           {"AZURE", "westeurope"},
	"AZURE_SWITZERLANDNORTH":     {"AZURE", "switzerlandnorth"},
	"AZURE_UAENORTH":             {"AZURE", "uaenorth"},
	"AZURE_CENTRALINDIA":         {"AZURE", "centralindia"},
	"AZURE_JAPANEAST":            {"AZURE", "japaneast"},
	"AZURE_KOREACENTRAL":         {"AZURE", "koreacentral"},
	"AZURE_SOUTHEASTASIA":        {"AZURE", "southeastasia"},
	"AZURE_AUSTRALIAEAST":        {"AZURE", "australiaeast"},
}

// CloudRegion names the region of a Snowflake account (CURRENT_REGION(),
// AWS_US_WEST_2 or with a region group PUBLIC.AWS_US_WEST_2) in cloud
// ("AWS", "GCP"). onCloud says the account runs on cloud; region is ""
// when the ID is not in Snowflake's table as byob knows it (a region
// opened since: the caller asks for the bucket's region then).
func CloudRegion(snowflakeRegion, cloud string) (region string, onCloud bool) {
	id := snowflakeRegion
	if i := strings.LastIndex(id, "."); i >= 0 {
		id = id[i+1:]
	}
	id = strings.ToUpper(strings.ReplaceAll(id, "-", "_"))
	cloud = strings.ToUpper(cloud)
	if r, ok := regions[id]; ok {
		if r.cloud != cloud {
			return "", false
		}
		return r.region, true
	}
	return "", strings.HasPrefix(id, cloud+"_")
}
