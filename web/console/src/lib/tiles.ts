/** The server's map tile setting (`/console/settings.json`, FIELDPUNCH_MAP_TILE_URL). */
export interface Tiles {
  url: string
  attribution: string
}

let loaded: Promise<Tiles> | null = null

/** Read once per page load; unreadable: no tiles (the maps show their grid, never break). */
export function tiles(): Promise<Tiles> {
  loaded ??= fetch(`${import.meta.env.BASE_URL}settings.json`)
    .then((r) => (r.ok ? r.json() : { tiles: null }))
    .then((body: { tiles?: Tiles | null }) => body.tiles ?? { url: '', attribution: '' })
    .catch(() => ({ url: '', attribution: '' }))
  return loaded
}
