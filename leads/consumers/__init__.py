"""The visitor's chat socket (`chat`); the dashboard's is `leads.dashboard.consumers`."""
