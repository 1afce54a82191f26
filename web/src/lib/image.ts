/**
 * Shrink a camera photo on the phone before it is queued: upright (EXIF orientation applied),
 * at most 2560 px, JPEG. It uploads faster on a poor connection, takes less room in the outbox,
 * and drops the original's EXIF (GPS included) before it ever leaves the phone. The server
 * re-encodes again whatever it gets; on any failure here the original file is used.
 */
export const MAX_EDGE = 2560

export async function shrinkPhoto(file: Blob, maxEdge = MAX_EDGE, quality = 0.85): Promise<Blob> {
  try {
    const bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' })
    const scale = Math.min(1, maxEdge / Math.max(bitmap.width, bitmap.height))
    const width = Math.max(1, Math.round(bitmap.width * scale))
    const height = Math.max(1, Math.round(bitmap.height * scale))
    let blob: Blob | null
    if (typeof OffscreenCanvas !== 'undefined') {
      const canvas = new OffscreenCanvas(width, height)
      canvas.getContext('2d')!.drawImage(bitmap, 0, 0, width, height)
      blob = await canvas.convertToBlob({ type: 'image/jpeg', quality })
    } else {
      const canvas = document.createElement('canvas')
      canvas.width = width
      canvas.height = height
      canvas.getContext('2d')!.drawImage(bitmap, 0, 0, width, height)
      blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/jpeg', quality))
    }
    bitmap.close()
    return blob && blob.size > 0 ? blob : file
  } catch {
    return file
  }
}
