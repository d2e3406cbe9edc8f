// SNETensor module.
