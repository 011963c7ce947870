"""FCN-Alexnet in plain PyTorch, written from the layer table of the design
notes (DIGITS fcn_alexnet.prototxt), independently of fcnlab's C++ code.

Used as the Python peer in benchmarks and as the twin that fcnlab's model is
checked against (same state_dict keys: conv1.weight, ..., upscore.weight).
"""
import math

import torch
from torch import nn


def bilinear_weight(channels, size):
    factor = (size + 1) // 2
    center = factor - 1 if size % 2 == 1 else factor - 0.5
    og = torch.arange(size, dtype=torch.float64)
    profile = 1 - (og - center).abs() / factor
    kernel = torch.outer(profile, profile).float()
    return kernel.expand(channels, 1, size, size).clone()


class FcnAlexNetTorch(nn.Module):
    def __init__(self, num_classes=21, mean=(116.0,), dropout=0.5):
        super().__init__()
        self.register_buffer(
            "mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1),
            persistent=False)
        self.conv1 = nn.Conv2d(3, 96, 11, stride=4, padding=100)
        self.pool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.norm1 = nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=1.0)
        self.conv2 = nn.Conv2d(96, 256, 5, padding=2, groups=2)
        self.pool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.norm2 = nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=1.0)
        self.conv3 = nn.Conv2d(256, 384, 3, padding=1)
        self.conv4 = nn.Conv2d(384, 384, 3, padding=1, groups=2)
        self.conv5 = nn.Conv2d(384, 256, 3, padding=1, groups=2)
        self.pool5 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.fc6 = nn.Conv2d(256, 4096, 6)
        self.drop6 = nn.Dropout(dropout)
        self.fc7 = nn.Conv2d(4096, 4096, 1)
        self.drop7 = nn.Dropout(dropout)
        self.score_fr = nn.Conv2d(4096, num_classes, 1)
        self.upscore = nn.ConvTranspose2d(
            num_classes, num_classes, 63, stride=32, groups=num_classes,
            bias=False)
        with torch.no_grad():
            nn.init.zeros_(self.score_fr.weight)
            nn.init.zeros_(self.score_fr.bias)
            self.upscore.weight.copy_(bilinear_weight(num_classes, 63))
        self.upscore.weight.requires_grad_(False)

    def forward(self, bgr):
        height, width = bgr.shape[2:]
        x = bgr - self.mean
        x = self.norm1(self.pool1(torch.relu(self.conv1(x))))
        x = self.norm2(self.pool2(torch.relu(self.conv2(x))))
        x = torch.relu(self.conv3(x))
        x = torch.relu(self.conv4(x))
        x = self.pool5(torch.relu(self.conv5(x)))
        x = self.drop6(torch.relu(self.fc6(x)))
        x = self.drop7(torch.relu(self.fc7(x)))
        x = self.upscore(self.score_fr(x))
        # Crop offset 18: upscore position u lies over image position u - 18.
        return x[:, :, 18:18 + height, 18:18 + width]
