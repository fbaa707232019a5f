# OpenBao for pod-secrets: file storage on aegis-openbao-data, HTTP on 8200 inside the pod.
storage "file" {
  path = "/openbao/file"
}
listener "tcp" {
  address     = "0.0.0.0:8200"
  tls_disable = true
}
ui            = false
disable_mlock = true
