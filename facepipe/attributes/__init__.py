"""Face attributes: the vocabulary, the training data, the classifiers that score faces, and the
latent directions that edit them (the TL-GAN method; `facepipe.generate.edit` applies them)."""
