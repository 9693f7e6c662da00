package chart_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// objects holds a rendered manifest decoded strictly into API types.
type objects struct {
	Deployments     map[string]*appsv1.Deployment
	Services        map[string]*corev1.Service
	ConfigMaps      map[string]*corev1.ConfigMap
	Secrets         map[string]*corev1.Secret
	ServiceAccounts map[string]*corev1.ServiceAccount
	PDBs            map[string]*policyv1.PodDisruptionBudget
	Ingresses       map[string]*networkingv1.Ingress
	Count           int
}

// decodeStrict decodes one document into the API type of its kind,
// rejecting unknown fields; kinds the chart should not produce fail.
func decodeStrict(doc string, into *objects) error {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
		return fmt.Errorf("type meta: %w", err)
	}
	strict := func(apiVersion string, obj any) error {
		if tm.APIVersion != apiVersion {
			return fmt.Errorf("%s has apiVersion %q, want %q", tm.Kind, tm.APIVersion, apiVersion)
		}
		return yaml.UnmarshalStrict([]byte(doc), obj)
	}
	into.Count++
	switch tm.Kind {
	case "Deployment":
		var o appsv1.Deployment
		if err := strict("apps/v1", &o); err != nil {
			return err
		}
		into.Deployments[o.Name] = &o
	case "Service":
		var o corev1.Service
		if err := strict("v1", &o); err != nil {
			return err
		}
		into.Services[o.Name] = &o
	case "ConfigMap":
		var o corev1.ConfigMap
		if err := strict("v1", &o); err != nil {
			return err
		}
		into.ConfigMaps[o.Name] = &o
	case "Secret":
		var o corev1.Secret
		if err := strict("v1", &o); err != nil {
			return err
		}
		into.Secrets[o.Name] = &o
	case "ServiceAccount":
		var o corev1.ServiceAccount
		if err := strict("v1", &o); err != nil {
			return err
		}
		into.ServiceAccounts[o.Name] = &o
	case "PodDisruptionBudget":
		var o policyv1.PodDisruptionBudget
		if err := strict("policy/v1", &o); err != nil {
			return err
		}
		into.PDBs[o.Name] = &o
	case "Ingress":
		var o networkingv1.Ingress
		if err := strict("networking.k8s.io/v1", &o); err != nil {
			return err
		}
		into.Ingresses[o.Name] = &o
	default:
		return fmt.Errorf("unexpected kind %q (apiVersion %q): add it to decodeStrict with its API type", tm.Kind, tm.APIVersion)
	}
	return nil
}

func decodeAll(t testing.TB, manifest string) *objects {
	t.Helper()
	o := &objects{
		Deployments: map[string]*appsv1.Deployment{}, Services: map[string]*corev1.Service{},
		ConfigMaps: map[string]*corev1.ConfigMap{}, Secrets: map[string]*corev1.Secret{},
		ServiceAccounts: map[string]*corev1.ServiceAccount{}, PDBs: map[string]*policyv1.PodDisruptionBudget{},
		Ingresses: map[string]*networkingv1.Ingress{},
	}
	for i, d := range documents(manifest) {
		require.NoError(t, decodeStrict(d, o), "document %d:\n%s", i, d)
	}
	return o
}

func TestDecodeStrictRejectsUnknownFieldsAndKinds(t *testing.T) {
	o := &objects{Deployments: map[string]*appsv1.Deployment{}}
	err := decodeStrict("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  replica: 3\n", o)
	require.Error(t, err, "a misspelt field must fail strict decoding")
	err = decodeStrict("apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: x\n", o)
	require.ErrorContains(t, err, "unexpected kind")
	err = decodeStrict("apiVersion: apps/v1beta1\nkind: Deployment\nmetadata:\n  name: x\n", o)
	require.ErrorContains(t, err, "apiVersion")
}
