variable "project_id" {
  description = "Google Cloud project ID."
  type        = string
}

variable "name" {
  description = "Name of the Cloud Run service."
  type        = string
}

variable "location" {
  description = "Region of the Cloud Run service."
  type        = string
}

variable "service_account_email" {
  description = "Service account the service runs as: the one that submits PipelineJobs."
  type        = string
}

variable "image" {
  description = "Container image of the service. Deployments after the first one come from CI (gcloud run deploy), so later changes to this value are ignored."
  type        = string
}

variable "ingress" {
  description = "Who may reach the service over the network. INGRESS_TRAFFIC_INTERNAL_ONLY admits Cloud Scheduler and other Google Cloud callers in the project; use INGRESS_TRAFFIC_ALL to call it from outside (IAM still decides who may invoke it)."
  type        = string
  default     = "INGRESS_TRAFFIC_INTERNAL_ONLY"

  validation {
    condition     = contains(["INGRESS_TRAFFIC_ALL", "INGRESS_TRAFFIC_INTERNAL_ONLY", "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"], var.ingress)
    error_message = "ingress must be INGRESS_TRAFFIC_ALL, INGRESS_TRAFFIC_INTERNAL_ONLY or INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER."
  }
}

variable "invokers" {
  description = "IAM members granted roles/run.invoker on the service, e.g. serviceAccount:scheduler@my-project.iam.gserviceaccount.com. Nobody else may call it."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for m in var.invokers : !contains(["allUsers", "allAuthenticatedUsers"], m)])
    error_message = "The runner must not be public: allUsers and allAuthenticatedUsers are not allowed as invokers."
  }
}

variable "env" {
  description = "Environment variables of the service's container."
  type        = map(string)
  default     = {}
}

variable "labels" {
  description = "Labels of the service."
  type        = map(string)
  default     = {}
}

variable "deletion_protection" {
  description = "Whether Terraform refuses to delete the service."
  type        = bool
  default     = false
}
