package cli

import (
	"flag"
	"fmt"
	"time"

	"entra2okta/internal/attrmap"
	"entra2okta/workflows"
)

// migrateFlags are the migrate command's own flags.
type migrateFlags struct {
	batch, group, filter, usersFile, deadline, policy string
	all, dryRun, wait, federated, asJSON, mapDefaults bool
	window                                            int
	reconcile                                         time.Duration
	maps                                              attrmap.Flags
	mapFile, groupsFile, groupsPrefix                 string
	syncGroups                                        bool
}

// register declares the migrate command's own flags on fs: those before
// the Okta flags, then -json after them, in the order the help lists them.
func (m *migrateFlags) register(fs *flag.FlagSet, of *oktaFlags, env Env) {
	fs.StringVar(&m.batch, "batch", "", "batch name: shows in the Web UI as MigrationBatch (required)")
	fs.StringVar(&m.group, "group", "", "Entra group object id: its transitive user members")
	fs.StringVar(&m.filter, "filter", "", "Microsoft Graph $filter over /users, e.g. \"department eq 'Sales'\"")
	fs.StringVar(&m.usersFile, "users", "", "CSV file of user principal names (a login/upn column, or the first column)")
	fs.BoolVar(&m.all, "all", false, "every user of the tenant")
	fs.StringVar(&m.deadline, "deadline", "60d", "when the straggler policy applies: 60d, 36h, or an RFC 3339 time")
	fs.StringVar(&m.policy, "on-deadline", "none", "straggler policy: none, expire-password, reset-password or deactivate")
	fs.BoolVar(&m.dryRun, "dry-run", false, "read Entra ID and Okta, write nothing, print what would happen per user")
	fs.BoolVar(&m.wait, "wait", false, "show live progress until every user is imported (and, for a dry run, the plan)")
	fs.IntVar(&m.window, "window", 0, fmt.Sprintf("users imported at once (default %d, at most %d)", workflows.DefaultWindowSize, workflows.MaxWindowSize))
	fs.DurationVar(&m.reconcile, "reconcile-every", 0, "how often a waiting user's Okta record is re-read (default 24h)")
	fs.BoolVar(&m.federated, "federated-to-deadline", false, "migrate users of federated domains and leave them to the deadline policy, instead of Ineligible")
	fs.Var(&m.maps, "map", "copy a Graph user property to an Okta profile attribute, graphAttr=oktaAttr (repeatable), e.g. "+
		"officeLocation=officeLocation or onPremisesExtensionAttributes.extensionAttribute3=costCenter; checked against the Okta user schema first")
	fs.StringVar(&m.mapFile, "map-file", "", "attribute mappings from a file: YAML (graphAttr: oktaAttr) or CSV (graphAttr,oktaAttr), one per line")
	fs.BoolVar(&m.mapDefaults, "map-defaults", true, "keep the default mappings (givenName→firstName, surname→lastName, mail→email, ...) beside --map and --map-file")
	fs.StringVar(&m.groupsFile, "map-groups", "", "Entra groups to Okta groups from a file: YAML (entraGroup: oktaGroup) or CSV (entraGroup,oktaGroup); "+
		"an Entra group is an object ID or display name, an Okta group a name (created when missing) or the ID of an existing OKTA_GROUP")
	fs.StringVar(&m.groupsPrefix, "map-groups-prefix", "", "every Entra security group whose display name starts with this (case-sensitive) "+
		"becomes the Okta group of the same name, created when missing")
	fs.BoolVar(&m.syncGroups, "sync-groups", false, "at each reconciliation before the first sign-in, give a user the difference of its Entra groups "+
		"(never removing an Okta membership the migration did not add)")
	of.register(fs, env)
	fs.BoolVar(&m.asJSON, "json", false, "one JSON document on stdout: the batch, its workflow and run, the attribute mappings (not with --wait; notes go to stderr)")
}
