{{- define "pda.fullname" -}}
{{- printf "%s" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "pda.labels" -}}
app.kubernetes.io/name: proxmox-diode-agent
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}

{{- define "pda.selector" -}}
app.kubernetes.io/name: proxmox-diode-agent
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
