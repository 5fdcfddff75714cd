#!/usr/bin/env bash
# Re-creates every shipped model in assets/models/ with the project's training command
# (about 70 minutes on a 2-core CPU; the cards record each run's time).
set -euo pipefail
cd "$(dirname "$0")"
: "${VP_DATA_DIR:?set VP_DATA_DIR to the folder holding mnist.npz}"
python -m core train --model net002 --epochs 20
python -m core train --model dnn --epochs 30
python -m core train --model convnet --epochs 30
python -m core train --model resnet --epochs 30 --polish-epochs 5
