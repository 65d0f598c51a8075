{{- define "k8s-cost-etl.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "k8s-cost-etl.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "k8s-cost-etl.selectorLabels" -}}
app.kubernetes.io/name: {{ include "k8s-cost-etl.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "k8s-cost-etl.labels" -}}
{{ include "k8s-cost-etl.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "k8s-cost-etl.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "k8s-cost-etl.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "k8s-cost-etl.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The environment of every container: settings file, database URL, token file, extras. */}}
{{- define "k8s-cost-etl.env" -}}
- name: K8S_COST_ETL_CONFIG
  value: /etc/k8s-cost-etl/k8s-cost-etl.yaml
- name: DATABASE_URL
  valueFrom:
    secretKeyRef: {name: {{ .Values.database.existingSecret }}, key: {{ .Values.database.urlKey }}}
{{- if .Values.thanosBearerToken.enabled }}
- name: THANOS_BEARER_TOKEN_FILE
  value: /var/run/secrets/k8s-cost-etl/thanos-token
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "k8s-cost-etl.volumeMounts" -}}
- {name: config, mountPath: /etc/k8s-cost-etl, readOnly: true}
{{- if .Values.thanosBearerToken.enabled }}
- {name: thanos-token, mountPath: /var/run/secrets/k8s-cost-etl, readOnly: true}
{{- end }}
- {name: tmp, mountPath: /tmp}
{{- end -}}

{{- define "k8s-cost-etl.volumes" -}}
- name: config
  configMap: {name: {{ include "k8s-cost-etl.fullname" . }}}
{{- if .Values.thanosBearerToken.enabled }}
- name: thanos-token
  secret:
    secretName: {{ .Values.thanosBearerToken.existingSecret }}
    items: [{key: {{ .Values.thanosBearerToken.key }}, path: thanos-token}]
    defaultMode: 288  # 0440: readable by the fsGroup only
{{- end }}
- name: tmp
  emptyDir: {}
{{- end -}}

{{/* The pod spec shared by the Deployment and the CronJob's Jobs; .args is the command. */}}
{{- define "k8s-cost-etl.podSpec" -}}
{{- $ := .root -}}
serviceAccountName: {{ include "k8s-cost-etl.serviceAccountName" $ }}
automountServiceAccountToken: false
{{- with $.Values.imagePullSecrets }}
imagePullSecrets: {{ toYaml . | nindent 2 }}
{{- end }}
terminationGracePeriodSeconds: {{ $.Values.terminationGracePeriodSeconds }}
securityContext: {{ toYaml $.Values.podSecurityContext | nindent 2 }}
{{- with $.Values.nodeSelector }}
nodeSelector: {{ toYaml . | nindent 2 }}
{{- end }}
{{- with $.Values.tolerations }}
tolerations: {{ toYaml . | nindent 2 }}
{{- end }}
{{- with $.Values.affinity }}
affinity: {{ toYaml . | nindent 2 }}
{{- end }}
containers:
  - name: etl
    image: {{ include "k8s-cost-etl.image" $ }}
    imagePullPolicy: {{ $.Values.image.pullPolicy }}
    args: [{{ .args | quote }}]
    env: {{ include "k8s-cost-etl.env" $ | nindent 6 }}
    {{- if eq .args "schedule" }}
    ports:
      - name: metrics
        containerPort: {{ $.Values.config.schedule.health_port }}
    # Liveness: the scheduler runs. Readiness: the last cycle had no failed account (a Thanos
    # outage makes the pod unready, not restarted).
    livenessProbe:
      httpGet: {path: /healthz, port: metrics}
      periodSeconds: 30
      failureThreshold: 3
    readinessProbe:
      httpGet: {path: /readyz, port: metrics}
      periodSeconds: 30
      failureThreshold: 1
    {{- end }}
    securityContext: {{ toYaml $.Values.securityContext | nindent 6 }}
    resources: {{ toYaml $.Values.resources | nindent 6 }}
    volumeMounts: {{ include "k8s-cost-etl.volumeMounts" $ | nindent 6 }}
volumes: {{ include "k8s-cost-etl.volumes" $ | nindent 2 }}
{{- end -}}
