// SpikeIR module.
