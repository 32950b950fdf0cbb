"""Command line: `mcof predict` segments images with a trained PixelNet."""

from __future__ import annotations

import argparse
import sys

from mcof.logs import log_to_file


def _scales(text: str) -> list[float]:
    """'0.75,1.0,1.25' -> [0.75, 1.0, 1.25]: one word, so that the image paths after it stay
    image paths."""
    try:
        return [float(x) for x in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"scales are numbers separated by commas, got {text!r}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mcof", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    predict = commands.add_parser("predict", help="segment images with a trained PixelNet")
    predict.add_argument("--checkpoint", required=True, help="PixelNet model file, e.g. results/iter5/pixelnet.pt")
    predict.add_argument("--out", required=True, help="directory for the PNG masks")
    predict.add_argument("--overlay", action="store_true", help="also write <name>_overlay.jpg")
    predict.add_argument("--no-flip", action="store_true", help="do not average with the mirrored image")
    predict.add_argument("--crf", action="store_true", help="refine with a dense CRF")
    predict.add_argument("--scales", type=_scales, default=[1.0], metavar="S[,S...]",
                         help="average the probabilities over these image scales, e.g. "
                              "--scales 0.75,1.0,1.25 (default: 1.0)")
    predict.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    predict.add_argument("images", nargs="+", help="image files")
    args = parser.parse_args(argv)
    log_to_file(None)

    from mcof.crf import CRFUnavailable
    from mcof.data.voc import DatasetError
    from mcof.predict import predict_images
    from mcof.training.checkpoint import CheckpointError

    try:
        predict_images(args.checkpoint, args.images, args.out, overlays=args.overlay,
                       flip=not args.no_flip, device=args.device, crf=args.crf,
                       scales=args.scales)
    except (CheckpointError, DatasetError, CRFUnavailable, ValueError) as err:
        print(f"mcof predict: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
