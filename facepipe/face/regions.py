"""Named groups of MediaPipe's 468 face-mesh vertices: lips, brows, lids, jaw, the face outline.

Symmetric groups are `(subject's right side, its mirror on the subject's left, midline points)`.
"""

__all__ = [
    "MOUTH_CORNER",
    "UPPER_LIP_OUTER",
    "LOWER_LIP_OUTER",
    "UPPER_LIP_INNER",
    "LOWER_LIP_INNER",
    "CHIN",
    "JAW_SIDE",
    "CHEEK",
    "BROW_INNER",
    "BROW_OUTER",
    "EYE_LIDS",
    "LID_CREASE",
    "INNER_LIPS",
    "OUTER_LIPS",
    "LOWER_LIP_COLUMNS",
    "UPPER_LIP_COLUMNS",
    "MOUTH_CORNER_COLUMNS",
    "FACE_OVAL",
    "RIGID",
]

MOUTH_CORNER = ((61,), (291,), ())
UPPER_LIP_OUTER = ((185, 40, 39, 37), (409, 270, 269, 267), (0,))
LOWER_LIP_OUTER = ((146, 91, 181, 84), (375, 321, 405, 314), (17,))
UPPER_LIP_INNER = ((191, 80, 81, 82), (415, 310, 311, 312), (13,))
LOWER_LIP_INNER = ((95, 88, 178, 87), (324, 318, 402, 317), (14,))
CHIN = ((148, 176, 149), (377, 400, 378), (152, 175, 199, 200, 18))
JAW_SIDE = ((150, 136), (379, 365), ())
CHEEK = ((205, 50, 187, 123), (425, 280, 411, 352), ())
BROW_INNER = ((107, 55, 66, 65), (336, 285, 296, 295), ())
BROW_OUTER = ((70, 46, 63, 53, 105, 52), (300, 276, 293, 283, 334, 282), ())
# Eye lids: (upper lid margin, lower lid margin) from the outer to the inner corner; the corners apart.
EYE_LIDS = {
    "right": ((246, 161, 160, 159, 158, 157, 173), (7, 163, 144, 145, 153, 154, 155), (33, 133)),
    "left": ((466, 388, 387, 386, 385, 384, 398), (249, 390, 373, 374, 380, 381, 382), (263, 362)),
}
# The two rows of skin above each upper lid, which follow a closing lid part of the way.
LID_CREASE = {  # rows above each upper lid, following it partly when the eye closes
    "right": ((247, 30, 29, 27, 28, 56, 190), (113, 225, 224, 223, 222, 221, 189)),
    "left": ((467, 260, 259, 257, 258, 286, 414), (342, 445, 444, 443, 442, 441, 413)),
}
# Inner lip loop, corner to corner over the upper lip and back under it: an opened mouth's outline.
INNER_LIPS = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87, 178, 88, 95)
# Outer lip loop, the same way round: where the lips' own colour is.
OUTER_LIPS = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84, 181, 91, 146)
# The lips as columns from the inner row to the outer (subject's right corner to left); the rows between
# follow the inner and outer rows, so a lip moved as a whole keeps its shape.
LOWER_LIP_COLUMNS = (
    (95, 96, 77, 146),
    (88, 89, 90, 91),
    (178, 179, 180, 181),
    (87, 86, 85, 84),
    (14, 15, 16, 17),
    (317, 316, 315, 314),
    (402, 403, 404, 405),
    (318, 319, 320, 321),
    (324, 325, 307, 375),
)
UPPER_LIP_COLUMNS = (
    (191, 183, 184, 185),
    (80, 42, 74, 40),
    (81, 41, 73, 39),
    (82, 38, 72, 37),
    (13, 12, 11, 0),
    (312, 268, 302, 267),
    (311, 271, 303, 269),
    (310, 272, 304, 270),
    (415, 407, 408, 409),
)
# Inner corner .. outer corner of the mouth: each moves with its outer corner.
MOUTH_CORNER_COLUMNS = ((78, 62, 76, 61), (308, 292, 306, 291))
# The face's outline, clockwise from the top of the forehead.
FACE_OVAL = (
    10,
    338,
    297,
    332,
    284,
    251,
    389,
    356,
    454,
    323,
    361,
    288,
    397,
    365,
    379,
    378,
    400,
    377,
    152,
    148,
    176,
    149,
    150,
    136,
    172,
    58,
    132,
    93,
    234,
    127,
    162,
    21,
    54,
    103,
    67,
    109,
)
RIGID = (1, 4, 5, 6, 168, 195, 197, 9, 151, 33, 133, 263, 362)  # nose bridge/tip, forehead, eye corners
