{{/* Names and labels as `helm create` writes them (NetBox Labs' charts do the same). */}}
{{- define "pda.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "pda.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "pda.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "pda.selectorLabels" -}}
app.kubernetes.io/name: {{ include "pda.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "pda.labels" -}}
helm.sh/chart: {{ include "pda.chart" . }}
{{ include "pda.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "pda.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "pda.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* registry/repository:tag, or registry/repository@digest. */}}
{{- define "pda.image" -}}
{{- $repo := .Values.image.repository }}
{{- with .Values.image.registry }}
{{- $repo = printf "%s/%s" (trimSuffix "/" .) $repo }}
{{- end }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" $repo .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" $repo (toString (default .Chart.AppVersion .Values.image.tag)) }}
{{- end }}
{{- end }}

{{/* The Secret with the Diode client credential (keys client-id, client-secret). */}}
{{- define "pda.credentialsSecret" -}}
{{- default (include "pda.fullname" .) .Values.existingSecret }}
{{- end }}

{{/* Non-empty when Redis coordinates the replicas. */}}
{{- define "pda.redis" -}}
{{- if or .Values.coordination.redisUrl .Values.coordination.existingSecret }}true{{ end }}
{{- end }}

{{/* Non-empty when a ReadWriteOnce(Pod) volume holds the state: one pod at a time may mount it. */}}
{{- define "pda.recreate" -}}
{{- if .Values.persistence.enabled }}
{{- if or (has "ReadWriteOnce" .Values.persistence.accessModes) (has "ReadWriteOncePod" .Values.persistence.accessModes) }}true{{ end }}
{{- end }}
{{- end }}

{{- define "pda.serviceMonitorServed" -}}
{{- if .Capabilities.APIVersions.Has "monitoring.coreos.com/v1" }}true{{ end }}
{{- end }}

{{/*
Settings that cannot work, refused before anything is installed. Without Redis every replica
would run every policy with its own delta state; with Redis the state lives there, and a
ReadWriteOnce volume could not be mounted by replicas on several nodes anyway.
*/}}
{{- define "pda.validate" -}}
{{- $replicas := int .Values.replicaCount }}
{{- if and (gt $replicas 1) (not (include "pda.redis" .)) }}
{{- fail (printf "replicaCount is %d, but more than one replica needs Redis: set coordination.redisUrl (or coordination.existingSecret). Without it every replica would run every policy and keep its own delta state." $replicas) }}
{{- end }}
{{- if and (gt $replicas 1) .Values.persistence.enabled }}
{{- fail "persistence.enabled holds one replica's state on a volume; with replicaCount > 1 the delta state lives in Redis: set persistence.enabled to false." }}
{{- end }}
{{- end }}

{{/*
agent.yaml. The chart owns the settings that must match the pod (state directory, status
listener, policies directory, credentials from the environment, coordination); the schema
keeps agentConfig to the others, so nothing here is overridden silently.
*/}}
{{- define "pda.agentYaml" -}}
{{- $user := default (dict) .Values.agentConfig }}
{{- $agent := merge (dict "state_dir" "/var/lib/diode-agent" "status" (dict "enabled" true "listen" "0.0.0.0:9464")) (deepCopy (default (dict) $user.agent)) }}
{{- $target := required "diode.target is required: the Diode endpoint of NetBox, e.g. grpcs://netbox.example.com/diode" .Values.diode.target }}
{{- $diode := merge (dict "target" $target "client_id" "${env:DIODE_CLIENT_ID}" "client_secret" "${env:DIODE_CLIENT_SECRET}") (deepCopy (default (dict) $user.diode)) }}
{{- $cfg := dict "agent" $agent "diode" $diode "policies" (dict "dir" "/etc/diode-agent/policies") }}
{{- if include "pda.redis" . }}
{{- $_ := set $cfg "coordination" (dict "redis_url" "${env:REDIS_URL}") }}
{{- end }}
{{- toYaml $cfg }}
{{- end }}
