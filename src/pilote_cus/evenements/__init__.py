"""Event data the indicators need (operations, attributions, vacancies, arrears, complaints…)."""
