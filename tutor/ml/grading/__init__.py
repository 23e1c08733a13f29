"""The short-answer grader: a fine-tuned cross-encoder, its training, calibration and serving."""
