// SNETrain module.
