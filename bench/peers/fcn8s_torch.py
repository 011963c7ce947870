"""FCN-8s (VGG16) in plain PyTorch, written from the FCN reference's layer
table (FCN-NETS.md): the independent twin that tests and benchmarks compare
fcnlab's generic network with. Parameter names are the Caffe layer names, so
fcnlab's state_dict loads as it is."""
import torch
import torch.nn.functional as F
from torch import nn

FCN_MEAN = (104.00699, 116.66877, 122.67892)


class Fcn8sTorch(nn.Module):
    def __init__(self, num_classes=21, mean=FCN_MEAN):
        super().__init__()
        self.register_buffer(
            "mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        widths = [64, 128, 256, 512, 512]
        depths = [2, 2, 3, 3, 3]
        self.trunk = []
        channels = 3
        for stage, (width, depth) in enumerate(zip(widths, depths), start=1):
            names = []
            for i in range(1, depth + 1):
                name = f"conv{stage}_{i}"
                pad = 100 if name == "conv1_1" else 1
                setattr(self, name, nn.Conv2d(channels, width, 3, padding=pad))
                channels = width
                names.append(name)
            self.trunk.append(names)
        self.fc6 = nn.Conv2d(512, 4096, 7)
        self.fc7 = nn.Conv2d(4096, 4096, 1)
        self.drop6 = nn.Dropout(0.5)
        self.drop7 = nn.Dropout(0.5)
        self.score_fr = nn.Conv2d(4096, num_classes, 1)
        self.upscore2 = nn.ConvTranspose2d(
            num_classes, num_classes, 4, stride=2, bias=False)
        self.score_pool4 = nn.Conv2d(512, num_classes, 1)
        self.upscore_pool4 = nn.ConvTranspose2d(
            num_classes, num_classes, 4, stride=2, bias=False)
        self.score_pool3 = nn.Conv2d(256, num_classes, 1)
        self.upscore8 = nn.ConvTranspose2d(
            num_classes, num_classes, 16, stride=8, bias=False)
        for up in (self.upscore2, self.upscore_pool4, self.upscore8):
            up.weight.requires_grad_(False)

    def forward(self, bgr):
        h = bgr - self.mean
        pools = []
        for names in self.trunk:
            for name in names:
                h = F.relu(getattr(self, name)(h))
            # Caffe rounds pooled sizes up.
            h = F.max_pool2d(h, 2, 2, ceil_mode=True)
            pools.append(h)
        h = self.drop6(F.relu(self.fc6(pools[4])))
        h = self.drop7(F.relu(self.fc7(h)))
        up2 = self.upscore2(self.score_fr(h))
        # The reference's crop offsets: 5, 9 and 31.
        pool4 = self.score_pool4(pools[3])
        fuse4 = up2 + pool4[:, :, 5:5 + up2.shape[2], 5:5 + up2.shape[3]]
        up4 = self.upscore_pool4(fuse4)
        pool3 = self.score_pool3(pools[2])
        fuse3 = up4 + pool3[:, :, 9:9 + up4.shape[2], 9:9 + up4.shape[3]]
        up8 = self.upscore8(fuse3)
        return up8[:, :, 31:31 + bgr.shape[2], 31:31 + bgr.shape[3]]
