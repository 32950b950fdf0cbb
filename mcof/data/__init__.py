"""Datasets: the PASCAL VOC reader and the synthetic generator that writes the same layout."""
