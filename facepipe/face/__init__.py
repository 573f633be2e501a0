"""Reading a face, for every stage: MediaPipe's landmarks and segmentation, the mesh topology, landmark
regions, and measures of pose, expression and emotion.

Imports only `_tf`, `errors`, `io` and `config` (the expression names); everything else may import it.
"""
