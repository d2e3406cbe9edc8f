// SNECodegen module.
