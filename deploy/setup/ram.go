package main

import (
	stderrors "errors"
	"fmt"
	"io"
	"strings"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ram"

	"picbed/deploy"
)

// The roles s.yaml names (deploy.FunctionRole, deploy.EventRole) and
// the policies they get.
const (
	FunctionRole   = deploy.FunctionRole
	FunctionPolicy = "picbed-oss" // deploy/ram-policy*.json
	EventRole      = deploy.EventRole
	EventPolicy    = "AliyunFCInvocationAccess" // the system policy the console attaches to it
)

// ramClient is the official SDK's RAM client, pointed at endpoint
// ("" = ram.aliyuncs.com over HTTPS; a test's fake is host:port over HTTP).
type ramClient struct {
	*ram.Client
	endpoint string
}

func newRAM(cred deploy.Credentials, endpoint string) (*ramClient, error) {
	var c *ram.Client
	var err error
	if cred.Token != "" {
		c, err = ram.NewClientWithStsToken("cn-hangzhou", cred.ID, cred.Secret, cred.Token)
	} else {
		c, err = ram.NewClientWithAccessKey("cn-hangzhou", cred.ID, cred.Secret)
	}
	if err != nil {
		return nil, err
	}
	return &ramClient{Client: c, endpoint: endpoint}, nil
}

// at points a request at the client's endpoint.
func (c *ramClient) at(r *requests.RpcRequest) {
	r.Domain = "ram.aliyuncs.com"
	r.Scheme = "https"
	if c.endpoint != "" {
		r.Domain, r.Scheme = c.endpoint, "http"
	}
}

// code is RAM's error code in err, or "".
func code(err error) string {
	var se *errors.ServerError
	if stderrors.As(err, &se) {
		return se.ErrorCode()
	}
	return ""
}

// explain is RAM's code and message, or err.
func explain(err error) error {
	var se *errors.ServerError
	if stderrors.As(err, &se) {
		return fmt.Errorf("%s: %s", se.ErrorCode(), se.Message())
	}
	return err
}

// setupRoles creates the function's role and the OSS trigger's role if
// missing, creates or updates the function's policy for bucket, and
// attaches each policy once.
func setupRoles(c *ramClient, bucket string, inboxDelete bool, out io.Writer) error {
	doc := "ram-policy.json"
	if inboxDelete {
		doc = "ram-policy-inbox-delete.json"
	}
	steps := []func() error{
		func() error {
			return c.role(FunctionRole, deploy.Document("fc-trust-policy.json", ""), "picbed: Function Compute runs the function with it", out)
		},
		func() error { return c.policy(FunctionPolicy, deploy.Document(doc, bucket), out) },
		func() error { return c.attach(FunctionRole, "Custom", FunctionPolicy, out) },
		func() error {
			return c.role(EventRole, deploy.Document("oss-event-trust-policy.json", ""), "OSS invokes Function Compute triggers with it", out)
		},
		func() error { return c.attach(EventRole, "System", EventPolicy, out) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

func (c *ramClient) role(name, trust, description string, out io.Writer) error {
	get := ram.CreateGetRoleRequest()
	c.at(get.RpcRequest)
	get.RoleName = name
	_, err := c.GetRole(get)
	switch {
	case err == nil:
		fmt.Fprintf(out, "ok       RAM role %s exists\n", name)
		return nil
	case code(err) != "EntityNotExist.Role":
		return fmt.Errorf("reading RAM role %s: %w (the deploying identity needs ram:GetRole, deploy/deployer-policy.json)", name, explain(err))
	}
	create := ram.CreateCreateRoleRequest()
	c.at(create.RpcRequest)
	create.RoleName, create.AssumeRolePolicyDocument, create.Description = name, trust, description
	if _, err := c.CreateRole(create); err != nil {
		return fmt.Errorf("creating RAM role %s: %w", name, explain(err))
	}
	fmt.Fprintf(out, "created  RAM role %s\n", name)
	return nil
}

// policy creates the custom policy, or makes doc its default version when
// it differs (PICBED_INBOX_AFTER changed, another bucket).
func (c *ramClient) policy(name, doc string, out io.Writer) error {
	get := ram.CreateGetPolicyRequest()
	c.at(get.RpcRequest)
	get.PolicyName, get.PolicyType = name, "Custom"
	have, err := c.GetPolicy(get)
	switch {
	case err == nil && squash(have.DefaultPolicyVersion.PolicyDocument) == squash(doc):
		fmt.Fprintf(out, "ok       RAM policy %s is up to date\n", name)
		return nil
	case err == nil:
		v := ram.CreateCreatePolicyVersionRequest()
		c.at(v.RpcRequest)
		v.PolicyName, v.PolicyDocument, v.SetAsDefault = name, doc, requests.NewBoolean(true)
		v.RotateStrategy = "DeleteOldestNonDefaultVersionWhenLimitExceeded"
		if _, err := c.CreatePolicyVersion(v); err != nil {
			return fmt.Errorf("updating RAM policy %s: %w", name, explain(err))
		}
		fmt.Fprintf(out, "updated  RAM policy %s (new default version)\n", name)
		return nil
	case code(err) != "EntityNotExist.Policy":
		return fmt.Errorf("reading RAM policy %s: %w", name, explain(err))
	}
	create := ram.CreateCreatePolicyRequest()
	c.at(create.RpcRequest)
	create.PolicyName, create.PolicyDocument, create.Description = name, doc, "picbed: the function's access to its bucket"
	if _, err := c.CreatePolicy(create); err != nil {
		return fmt.Errorf("creating RAM policy %s: %w", name, explain(err))
	}
	fmt.Fprintf(out, "created  RAM policy %s\n", name)
	return nil
}

func (c *ramClient) attach(role, typ, policy string, out io.Writer) error {
	list := ram.CreateListPoliciesForRoleRequest()
	c.at(list.RpcRequest)
	list.RoleName = role
	have, err := c.ListPoliciesForRole(list)
	if err != nil {
		return fmt.Errorf("listing the policies of RAM role %s: %w", role, explain(err))
	}
	for _, p := range have.Policies.Policy {
		if strings.EqualFold(p.PolicyName, policy) && p.PolicyType == typ {
			fmt.Fprintf(out, "ok       %s is attached to %s\n", policy, role)
			return nil
		}
	}
	a := ram.CreateAttachPolicyToRoleRequest()
	c.at(a.RpcRequest)
	a.RoleName, a.PolicyType, a.PolicyName = role, typ, policy
	if _, err := c.AttachPolicyToRole(a); err != nil {
		return fmt.Errorf("attaching %s to RAM role %s: %w", policy, role, explain(err))
	}
	fmt.Fprintf(out, "attached %s to %s\n", policy, role)
	return nil
}

func squash(s string) string { return strings.Join(strings.Fields(s), "") }
