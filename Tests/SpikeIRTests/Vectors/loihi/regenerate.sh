#!/bin/sh
# Regenerates the Loihi conformance vectors in this folder WITH Lava (lava-nc 0.10's bit-accurate
# CPU models, run by targets/lava/sne_lava.py under Loihi2SimCfg(select_tag='fixed_pt')):
#   lNN.snep       a random valid Loihi-mode program (LoihiFixtures seed 11, program NN)
#   lNN.input.u8   one input (raw uint8, HWC)
#   lNN.lava.json  what Lava computed: per student, per loihi_lif op, per step the spikes, v and u
#                  of every neuron (HWC order), the readout features f, the int8 q, the logits
# Needs the Lava venv (Python 3.10):
#   python3.10 -m venv ~/.venvs/lava && ~/.venvs/lava/bin/pip install lava-nc && export SNE_LAVA_PYTHON=~/.venvs/lava/bin/python
# (or set SNE_LAVA_PYTHON). LoihiVectorTests checks the interpreter against these files.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../../../.."
swift run sne lava-vecs "$here" --count 24 --seed 11
