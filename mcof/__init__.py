"""MCOF: weakly supervised semantic segmentation by iteratively mining common object features.

Importing the package is cheap on purpose: torch is imported only by the modules that need it,
so the CPU stages of the workflow start fast.
"""

__version__ = "0.1.0"

IGNORE = 255
"""Label value of pixels and regions that carry no label (VOC's boundary band, unlabelled seeds)."""
