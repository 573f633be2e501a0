"""Grading outputs with judges that did not make them: identity (dlib's descriptor), SR quality
(PSNR/SSIM on Y), a dataset's pose errors, and a generator's realism (Fréchet distances, nearest
training faces, same-person pairs).

Imports `face/`, `models/` and below; the commands, stages and benchmarks import it.
"""
