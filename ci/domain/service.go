package domain

import (
	"fmt"
	"strings"
)

// Service is a deployable service of the product; each is one image and one block of the chart.
type Service string

// The services, in build order.
const (
	API     Service = "api"
	Worker  Service = "worker"
	Airflow Service = "airflow"
)

// Services returns every service in build order.
func Services() []Service { return []Service{API, Worker, Airflow} }

func serviceNames() string {
	names := make([]string, 0, 3)
	for _, s := range Services() {
		names = append(names, string(s))
	}
	return strings.Join(names, ", ")
}

// ParseService returns the service named s; an unknown name is an error listing the services.
func ParseService(s string) (Service, error) {
	for _, v := range Services() {
		if string(v) == s {
			return v, nil
		}
	}
	return "", fmt.Errorf("unknown service %q: use one of %s", s, serviceNames())
}

// String returns the service's name (also its image repository's last path component).
func (s Service) String() string { return string(s) }

// Dockerfile is the service's Dockerfile, relative to the project.
func (s Service) Dockerfile() string { return "docker/" + string(s) + ".Dockerfile" }

// Requirements is the service's pinned requirements file, relative to the project.
func (s Service) Requirements() string { return "requirements-" + string(s) + ".txt" }

// ChartKey is the service's key in the chart's values (`images.<key>`, `<key>.replicas`).
func (s Service) ChartKey() string { return string(s) }

// ImageVar is the dotenv variable that carries the service's pinned image (API_IMAGE=...).
func (s Service) ImageVar() string { return strings.ToUpper(string(s)) + "_IMAGE" }
