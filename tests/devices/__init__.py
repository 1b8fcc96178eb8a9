"""Device behaviour: the room's commands run through models written from the devices' own code."""
