"""A simulated internet on loopback: DNS and SMTP servers playing every behaviour the prober meets."""
