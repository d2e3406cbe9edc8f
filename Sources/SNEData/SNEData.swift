// SNEData module.
