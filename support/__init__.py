"""Email and FAQ self-service support: the app shell (`support.app`, `support.cli`), the
ticket domain (`support.desk`), staff sign-in (`support.auth`) and staff pages (`support.staff`)."""
