"""Pure cost math: hourly frames in, hourly and daily cost rows out. No I/O, so every rule here is
unit-tested without servers; this package imports nothing of etl but the vocabulary (etl.model).
"""
