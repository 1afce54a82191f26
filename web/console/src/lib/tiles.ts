import type { components } from '../../../src/api/schema'

/** The org's map provider (`GET /org` `map_provider`, also on `/me`'s org). */
export type MapProvider = components['schemas']['MapProvider']

/** Tiles for Leaflet: an XYZ template (`{s}` one of `subdomains`), its attribution. */
export interface Tiles {
  url: string
  attribution: string
  subdomains?: string
}

/**
 * The Chinese providers' tiles, drawn in GCJ-02 (lib/gcj02.ts converts the positions for them).
 * Baidu is left out: its tiles are BD-09 on Baidu's own grid, not Web Mercator XYZ. Their hosts
 * are in the console's page policy (src/fieldpunch/web/console.py).
 */
export const PROVIDER_TILES: Record<Exclude<MapProvider, 'osm'>, Tiles> = {
  amap: {
    url: 'https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}',
    subdomains: '1234',
    attribution: '© 高德地图 AutoNavi',
  },
  tencent: {
    url: 'https://rt{s}.map.gtimg.com/tile?z={z}&x={x}&y={-y}&type=vector&styleid=0',
    subdomains: '0123',
    attribution: '© 腾讯地图 Tencent',
  },
}

/** Whether a provider's tiles are drawn in GCJ-02 (else WGS-84, as the API's positions). */
export function isGcj02(provider: MapProvider | null | undefined): boolean {
  return provider === 'amap' || provider === 'tencent'
}

let loaded: Promise<Tiles> | null = null

/** The server's map tile setting (`/console/settings.json`, FIELDPUNCH_MAP_TILE_URL). */
function serverTiles(): Promise<Tiles> {
  loaded ??= fetch(`${import.meta.env.BASE_URL}settings.json`)
    .then((r) => (r.ok ? r.json() : { tiles: null }))
    .then((body: { tiles?: Tiles | null }) => body.tiles ?? { url: '', attribution: '' })
    .catch(() => ({ url: '', attribution: '' }))
  return loaded
}

/**
 * The tiles of a provider: `osm` (or none known) the server's, read once per page load;
 * unreadable: no tiles (the maps show their grid, never break).
 */
export function tiles(provider: MapProvider | null | undefined = 'osm'): Promise<Tiles> {
  if (provider === 'amap' || provider === 'tencent') return Promise.resolve(PROVIDER_TILES[provider])
  return serverTiles()
}
