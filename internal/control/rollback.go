package control

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"entra2okta/internal/apierr"
	"entra2okta/internal/okta"
	"entra2okta/workflows"
)

// OktaUsers is what rollback needs from Okta.
type OktaUsers interface {
	GetUser(ctx context.Context, idOrLogin string) (okta.User, error)
	DeactivateUser(ctx context.Context, id string) error
	DeleteUser(ctx context.Context, id string) error
}

// RollbackAction is what rollback did, or would do, to one user.
type RollbackAction struct {
	Login      string
	OktaUserID string
	Action     string // "delete", "keep", "error"
	Reason     string
}

// Rollback removes from Okta the users that this batch created and that never
// signed in (provider still IMPORT). It never touches a user the batch
// adopted, a user who already holds an Okta password, or a user whose status
// cannot be read. Running workflows of deleted users are first ended as
// Skipped, so they do not go on reconciling against a deleted user.
func Rollback(ctx context.Context, c client.Client, o OktaUsers, namespace, batch string, dryRun bool, fn func(RollbackAction)) error {
	return ListUsers(ctx, c, namespace, batch, func(r ReportRow) error {
		fn(rollbackOne(ctx, c, o, r, batch, dryRun))
		return nil
	})
}

func rollbackOne(ctx context.Context, c client.Client, o OktaUsers, r ReportRow, batch string, dryRun bool) RollbackAction {
	act := RollbackAction{Login: r.Login, Action: "keep"}
	qctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := c.QueryWorkflow(qctx, r.WorkflowID, "", workflows.QueryStatus)
	if err != nil {
		act.Action, act.Reason = "error", "status query failed (is a worker running?): "+err.Error()
		return act
	}
	var st workflows.UserStatus
	if err := v.Get(&st); err != nil {
		act.Action, act.Reason = "error", "status decode: "+err.Error()
		return act
	}
	act.OktaUserID = st.OktaUserID
	switch {
	case st.Batch != batch:
		act.Reason = "belongs to batch " + st.Batch
		return act
	case st.OktaAction != "create" || st.OktaUserID == "":
		act.Reason = "not created by this batch (" + orNone(st.OktaAction) + ")"
		return act
	}
	u, err := o.GetUser(qctx, st.OktaUserID)
	if apierr.Is(err, apierr.NotFound) {
		act.Reason = "already gone from Okta"
		return act
	}
	if err != nil {
		act.Action, act.Reason = "error", "okta: "+err.Error()
		return act
	}
	if !strings.EqualFold(u.Login, st.Login) {
		act.Reason = fmt.Sprintf("Okta user %s now has login %s", u.ID, u.Login)
		return act
	}
	if u.ProviderType != okta.ProviderImport {
		act.Reason = "signed in already (provider " + orNone(u.ProviderType) + ")"
		return act
	}
	act.Action, act.Reason = "delete", "created by this batch, never signed in"
	if dryRun {
		return act
	}
	if r.Execution == "Running" {
		if _, err := SkipUser(qctx, c, st.Login, "rolled back: Okta user deleted by starter rollback"); err != nil {
			act.Action, act.Reason = "error", "skip before delete: "+err.Error()
			return act
		}
	}
	if u.Status != okta.StatusDeprovisioned {
		if err := o.DeactivateUser(qctx, u.ID); err != nil {
			act.Action, act.Reason = "error", "deactivate: "+err.Error()
			return act
		}
	}
	if err := o.DeleteUser(qctx, u.ID); err != nil && !apierr.Is(err, apierr.NotFound) {
		act.Action, act.Reason = "error", "delete: "+err.Error()
		return act
	}
	return act
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
