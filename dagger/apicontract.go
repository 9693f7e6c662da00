package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"dagger/soccer-predict/internal/dagger"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/ci/gate/apicontract"
	projectpkg "gitlab.com/soccerpredictai/pipeline/ci/project"
	"gitlab.com/soccerpredictai/pipeline/ci/toolchain"
)

// ApiContract builds the API image, runs it as a service and checks its contract: a valid
// prediction request gets 200 with a body matching the response schema of the service's own
// OpenAPI document, an invalid one gets 422 with a validation error.
//
// +check
func (m *SoccerPredict) ApiContract(ctx context.Context) (err error) {
	defer surface(&err)
	return enforce(ctx, m.apiContract)
}

// ApiService returns the API image running as a service on port 8000, for manual testing:
// `dagger call api-service up --ports=8000:8000`.
func (m *SoccerPredict) ApiService(ctx context.Context) (_ *dagger.Service, err error) {
	defer surface(&err)
	ctr, err := m.dockerBuild(ctx, domain.API)
	if err != nil {
		return nil, err
	}
	return ctr.
		WithExposedPort(projectpkg.APIPort).
		AsService(), nil
}

// apiStartup runs the API image's own command for a bounded time outside the service, after the
// probe got no answer (probe says why): the result carries the service's exit code and last output
// lines, the reason it did not serve.
func (m *SoccerPredict) apiStartup(ctx context.Context, probe string) (gate.Result, error) {
	ctr, err := m.dockerBuild(ctx, domain.API)
	if err != nil {
		return gate.Result{}, err
	}
	entrypoint, err := ctr.Entrypoint(ctx)
	if err != nil {
		return gate.Result{}, err
	}
	args, err := ctr.DefaultArgs(ctx)
	if err != nil {
		return gate.Result{}, err
	}
	_, code, log, err := run(ctx, ctr, apicontract.StartupCommand(entrypoint, args))
	if err != nil {
		return gate.Result{}, err
	}
	return apicontract.ServiceFailed(probe, code, log), nil
}

func (m *SoccerPredict) apiContract(ctx context.Context) (outcome, error) {
	svc, err := m.ApiService(ctx)
	if err != nil {
		return outcome{}, err
	}
	imgs, err := m.images(ctx)
	if err != nil {
		return outcome{}, err
	}
	src := m.project()
	const out = "/tmp/contract"
	probe := dag.Container().
		From(imgs.Ref(toolchain.Curl)).
		WithFile("/contracts/valid.json", src.File(projectpkg.ValidRequest)).
		WithFile("/contracts/invalid.json", src.File(projectpkg.InvalidRequest)).
		WithServiceBinding("api", svc)
	done, code, log, err := run(ctx, probe, projectpkg.ContractProbe(out))
	if err != nil || code != 0 {
		// No answer: the service failed to start (an engine error) or never became ready.
		why := fmt.Sprintf("the probe exited %d: %s", code, gate.Last(log))
		if err != nil {
			why = err.Error()
		}
		res, derr := m.apiStartup(ctx, why)
		if derr != nil {
			if err != nil {
				return outcome{}, err
			}
			return outcome{}, fmt.Errorf("the API did not answer (%s), and running its command to see why failed: %w", why, derr)
		}
		return single(res), nil
	}
	read := func(name string) ([]byte, error) {
		s, err := done.File(out + "/" + name).Contents(ctx)
		return []byte(s), err
	}
	openapi, err := read("openapi.json")
	if err != nil {
		return outcome{}, err
	}
	valid, err := response(read, "valid")
	if err != nil {
		return outcome{}, err
	}
	invalid, err := response(read, "invalid")
	if err != nil {
		return outcome{}, err
	}
	return single(apicontract.Verify(apicontract.Check{
		OpenAPI: openapi,
		Path:    projectpkg.PredictPath,
		Method:  "POST",
		Valid:   valid,
		Invalid: invalid,
	})), nil
}

func response(read func(string) ([]byte, error), name string) (apicontract.Response, error) {
	status, err := read(name + ".status")
	if err != nil {
		return apicontract.Response{}, err
	}
	body, err := read(name + ".body")
	if err != nil {
		return apicontract.Response{}, err
	}
	code, err := strconv.Atoi(strings.TrimSpace(string(status)))
	if err != nil {
		return apicontract.Response{}, fmt.Errorf("%s request: curl reported status %q", name, status)
	}
	return apicontract.Response{Status: code, Body: body}, nil
}
