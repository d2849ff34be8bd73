"""Documents: the convention, the yearly follow-up, the evaluations and the regional synthesis (issue 6)."""
