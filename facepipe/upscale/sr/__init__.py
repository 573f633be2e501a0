"""Learned super-resolution networks, one file per model (EDSR, WDSR, SRGAN), in the layer layout of
krasserm/super-resolution so its published Keras weight files load by layer name."""
