"""The presence calendar: who is home on which day (custody schedules, split weeks, camps)."""
