output "uri" {
  description = "HTTPS URL of the service."
  value       = google_cloud_run_v2_service.this.uri
}

output "name" {
  description = "Name of the service."
  value       = google_cloud_run_v2_service.this.name
}

output "location" {
  description = "Region of the service."
  value       = google_cloud_run_v2_service.this.location
}

output "project" {
  description = "Project of the service."
  value       = google_cloud_run_v2_service.this.project
}
