{{/*
Common labels. Call with (dict "root" $ "component" "api").
*/}}
{{- define "soccer-predict.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "soccer-predict.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: soccer-predict
{{- end }}

{{/*
Selector labels. Call with (dict "root" $ "component" "api"); component may be empty.
*/}}
{{- define "soccer-predict.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- with .component }}
app.kubernetes.io/component: {{ . }}
{{- end }}
{{- end }}

{{- define "soccer-predict.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{ .Values.serviceAccount.name | default .Release.Name }}
{{- else -}}
{{ .Values.serviceAccount.name | default "default" }}
{{- end -}}
{{- end }}

{{/*
Image reference of a service, by digest. Call with (dict "root" $ "service" "api").
Fails when the digest is missing or malformed, unless global.allowTags is true
and the digest is empty (local renders only).
*/}}
{{- define "soccer-predict.image" -}}
{{- $svc := .service -}}
{{- $img := index .root.Values.images $svc -}}
{{- if not $img -}}
{{- fail (printf "images.%s is not set: add images.%s.repository and images.%s.digest to the values" $svc $svc $svc) -}}
{{- end -}}
{{- $repo := toString ($img.repository | default "") -}}
{{- if eq $repo "" -}}
{{- fail (printf "images.%s.repository is empty: set it (--set-string images.%s.repository=<registry>/<path>)" $svc $svc) -}}
{{- end -}}
{{- $digest := toString ($img.digest | default "") -}}
{{- if regexMatch "^sha256:[a-f0-9]{64}$" $digest -}}
{{- printf "%s@%s" $repo $digest -}}
{{- else if and (eq $digest "") .root.Values.global.allowTags -}}
{{- printf "%s:%s" $repo (toString ($img.tag | default .root.Chart.AppVersion)) -}}
{{- else if eq $digest "" -}}
{{- fail (printf "images.%s.digest is missing: images are deployed by digest; pass --set-string images.%s.digest=sha256:<64 hex> (publish writes it to images.env). Only local renders may set global.allowTags=true to use a tag" $svc $svc) -}}
{{- else -}}
{{- fail (printf "images.%s.digest %q is not a sha256 digest: it must be sha256: followed by 64 lowercase hex characters (publish writes it to images.env)" $svc $digest) -}}
{{- end -}}
{{- end }}

{{/*
JSON map service -> digest, keys sorted.
*/}}
{{- define "soccer-predict.imageDigests" -}}
{{- $d := dict -}}
{{- range $svc, $img := .Values.images -}}
{{- $_ := set $d $svc (toString ($img.digest | default "")) -}}
{{- end -}}
{{- toJson $d -}}
{{- end }}

{{/*
Traceability annotations, on every workload and on the <release>-trace ConfigMap.
*/}}
{{- define "soccer-predict.traceAnnotations" -}}
soccerpredict.io/git-commit: {{ toString (.Values.trace.gitCommit | default "") | quote }}
soccerpredict.io/image-digests: {{ include "soccer-predict.imageDigests" . | quote }}
soccerpredict.io/dataset-version: {{ toString (.Values.trace.datasetVersion | default "") | quote }}
{{- with .Values.trace.datasetPointer }}
soccerpredict.io/dataset-pointer: {{ toString . | quote }}
{{- end }}
soccerpredict.io/model-version: {{ toString (.Values.trace.modelVersion | default "") | quote }}
soccerpredict.io/environment: {{ toString .Values.trace.environment | quote }}
{{- end }}

{{/*
Render-time checks that the schema cannot express with a clear message.
*/}}
{{- define "soccer-predict.validate" -}}
{{- $env := toString .Values.trace.environment -}}
{{- if not (has $env (list "dev" "staging" "production")) -}}
{{- fail (printf "trace.environment %q is not one of dev, staging, production: deploy with -f values-<env>.yaml" $env) -}}
{{- end -}}
{{- if ne $env "dev" -}}
{{- range $field := list "gitCommit" "datasetVersion" "modelVersion" -}}
{{- if eq (toString (index $.Values.trace $field | default "")) "" -}}
{{- fail (printf "trace.%s is empty: %s releases must record it; pass --set-string trace.%s=..." $field $env $field) -}}
{{- end -}}
{{- end -}}
{{- if $.Values.global.allowTags -}}
{{- fail (printf "global.allowTags is true for %s: tags are for local renders only; deploy by digest" $env) -}}
{{- end -}}
{{- end -}}
{{- $pdb := .Values.api.pdb -}}
{{- if $pdb.enabled -}}
{{- $min := toString ($pdb.minAvailable | default "") -}}
{{- $max := toString ($pdb.maxUnavailable | default "") -}}
{{- if and (eq $min "") (eq $max "") -}}
{{- fail "api.pdb.enabled is true but neither api.pdb.minAvailable nor api.pdb.maxUnavailable is set: set one of them" -}}
{{- end -}}
{{- if and (regexMatch "^[0-9]+$" $min) (ge (atoi $min) (int .Values.api.replicas)) -}}
{{- fail (printf "api.pdb.minAvailable (%s) must be below api.replicas (%d), or no node could ever be drained" $min (int .Values.api.replicas)) -}}
{{- end -}}
{{- end -}}
{{- end }}

{{/*
Pod-level security context.
*/}}
{{- define "soccer-predict.podSecurityContext" -}}
{{ toYaml .Values.podSecurityContext }}
{{- end }}

{{/*
Container security context. Call with (dict "root" $ "readOnly" true).
*/}}
{{- define "soccer-predict.containerSecurityContext" -}}
{{- $sc := deepCopy .root.Values.containerSecurityContext -}}
{{- $_ := set $sc "readOnlyRootFilesystem" (ternary true false (eq (toString .readOnly) "true")) -}}
{{ toYaml $sc }}
{{- end }}

{{/*
Pod template annotations: roll pods when config or secrets change.
*/}}
{{- define "soccer-predict.checksums" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
checksum/secret: {{ include (print .Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end }}

{{- define "soccer-predict.envFrom" -}}
- configMapRef:
    name: {{ .Release.Name }}-config
- secretRef:
    name: {{ .Release.Name }}-secrets
{{- end }}

{{/*
Environment shared by the Airflow components. The metadata database URL comes
from the Secret key DATABASE_URL (secrets.databaseUrl).
*/}}
{{- define "soccer-predict.airflowEnv" -}}
- name: AIRFLOW__CORE__LOAD_EXAMPLES
  value: "False"
- name: AIRFLOW__DATABASE__SQL_ALCHEMY_CONN
  valueFrom:
    secretKeyRef:
      name: {{ .Release.Name }}-secrets
      key: DATABASE_URL
      optional: true
{{- end }}
