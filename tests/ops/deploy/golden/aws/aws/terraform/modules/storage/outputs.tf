output "bucket_name" {
  value = aws_s3_bucket.this.bucket
}

output "bucket_arn" {
  value = aws_s3_bucket.this.arn
}

output "distribution_domain_name" {
  value = var.enable_cdn ? aws_cloudfront_distribution.this[0].domain_name : ""
}

output "distribution_arn" {
  value = var.enable_cdn ? aws_cloudfront_distribution.this[0].arn : ""
}
