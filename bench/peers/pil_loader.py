"""The Python data peer: PIL + numpy decoding of a prepare-voc split into
what fcnlab's loader produces (BGR float32 C x H x W, int64 label indices)."""
import os

import numpy as np
import torch
from PIL import Image


def image_names(split_dir):
    return sorted(os.listdir(os.path.join(split_dir, "images")))


def decode(split_dir, name):
    stem = os.path.splitext(name)[0]
    rgb = np.asarray(Image.open(os.path.join(split_dir, "images", name)).convert("RGB"))
    bgr = np.ascontiguousarray(rgb[:, :, ::-1].transpose(2, 0, 1), dtype=np.float32)
    label = np.asarray(Image.open(os.path.join(split_dir, "labels", stem + ".png")), dtype=np.int64)
    assert bgr.shape[1:] == label.shape, stem
    return bgr, label


class VocSplit(torch.utils.data.Dataset):
    def __init__(self, split_dir):
        self.split_dir = split_dir
        self.names = image_names(split_dir)

    def __len__(self):
        return len(self.names)

    def __getitem__(self, index):
        bgr, label = decode(self.split_dir, self.names[index])
        return torch.from_numpy(bgr), torch.from_numpy(label)
