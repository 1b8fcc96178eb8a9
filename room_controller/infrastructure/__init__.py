"""What the room runs on: the MQTT link (paho), a private broker for the demo and tests, the clock the core
reads, systemd's notifications and the wall-clock jobs (APScheduler)."""
