/**
 * The server's map tiles, the console's setting (`GET /console/settings.json`,
 * FIELDPUNCH_MAP_TILE_URL): read once per page load. Unreadable or empty: no tiles, and the map
 * draws its points on a plain grid.
 */
export interface Tiles {
  url: string
  attribution: string
}

let loaded: Promise<Tiles> | null = null

export function tiles(): Promise<Tiles> {
  loaded ??= fetch('/console/settings.json')
    .then((r) => (r.ok ? r.json() : { tiles: null }))
    .then((body: { tiles?: Tiles | null }) => body.tiles ?? { url: '', attribution: '' })
    .catch(() => ({ url: '', attribution: '' }))
  return loaded
}
