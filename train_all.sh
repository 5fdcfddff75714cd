#!/usr/bin/env bash
# Re-creates every shipped model in assets/models/ with the project's training command
# (digits: about 70 minutes on a 2-core CPU; the CIFAR-10 ResNet: about two hours more).
# This is the only command that writes to assets/models: quick trials and the lab's runs write under $VP_HOME.
# The CIFAR-10 run backs up every epoch: if it is stopped, run this script again and it resumes.
set -euo pipefail
cd "$(dirname "$0")"
: "${VP_DATA_DIR:?set VP_DATA_DIR to the folder holding mnist.npz and cifar10.npz}"
CHECKPOINTS="${VP_HOME:-$HOME/.vision-playground}/checkpoints"
only="${1:-all}"
if [[ "$only" == all || "$only" == digits ]]; then
  python -m core train --model net002 --epochs 20 --out assets/models
  python -m core train --model dnn --epochs 30 --out assets/models
  python -m core train --model convnet --epochs 30 --out assets/models
  python -m core train --model resnet --epochs 30 --polish-epochs 5 --out assets/models
  # Their ONNX copies for the live reading in the browser (static/models; seconds): a test fails when a
  # shipped network changes without them.
  python -m core browser-models
fi
if [[ "$only" == all || "$only" == handwriting ]]; then
  # Digits and letters (core.data.handwriting: MNIST + the UNIPEN letters of the "train" writers, drawn 6 ways, + the
  # letters of 252 handwriting fonts): the features your own classes and the Greek model read (about 24 minutes here).
  python -m core train --model handwriting --epochs 12 --out assets/models
fi
if [[ "$only" == all || "$only" == handwriting || "$only" == greek ]]; then
  # Greek letters from the handwriting network's frozen features (needs it above; about 3 minutes here): the
  # report's 27 letters and many hands (core.data.greek_hands), validated on hands held out by font and shape.
  python -m core transfer --source handwriting --mode frozen --epochs 30 --hands --out assets/models
fi
if [[ "$only" == all || "$only" == cifar ]]; then
  python -m core train --model cifar_resnet --epochs 40 --batch-size 256 --precision mixed_bfloat16 \
    --checkpoint-dir "$CHECKPOINTS/cifar_resnet" --out assets/models
fi
if [[ "$only" == all || "$only" == backbone ]]; then
  # The CIFAR-10 backbone for transfer: trained on the first five classes only (about 30 minutes here).
  python -m core train --model cifar5_resnet --epochs 16 --batch-size 256 --precision mixed_bfloat16 \
    --val-size 2500 --checkpoint-dir "$CHECKPOINTS/cifar5_resnet" --out assets/models
fi
# Every shipped model's answers on its test set, beside its card, for the Compare page (seconds a digit network, about
# two minutes the CIFAR ResNet-9; a test fails when a shipped photo network changes without them), and the overviews
# of the data sets that are slow to read whole, for the Data sets page (about four minutes: the handwriting set is built).
python -m core answers
python -m core previews
