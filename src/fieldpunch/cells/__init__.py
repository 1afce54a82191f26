"""Cell towers (OpenCelliD format), used to place a punch when GPS is weak."""
