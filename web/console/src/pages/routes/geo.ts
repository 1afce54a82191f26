/**
 * The route and heat map reports (GET /reports/route, GET /reports/heatmap?format=geojson) through
 * the typed client. Their GeoJSON answers are not described in the OpenAPI schema (it says
 * `unknown`), so their shapes, as docs/reports.md gives them, are written here.
 */
import { api, ok } from '../../../../src/api/client'
import type { operations } from '../../../../src/api/schema'

export interface RouteStop {
  visit_id: string
  customer_id: string
  customer: string | null
  started_at: string
  ended_at: string | null
  duration_min: number | null
}

export interface RouteFeature {
  type: 'Feature'
  id?: string
  geometry: { type: 'LineString' | 'Point'; coordinates: number[][] | number[] }
  properties: Record<string, unknown>
}

export interface RouteDay {
  type: 'FeatureCollection'
  features: RouteFeature[]
  distance_m: number
  stops: RouteStop[]
  minutes_at_customers: number
}

export interface HeatCell {
  type: 'Feature'
  id: string
  geometry: { type: 'Polygon'; coordinates: number[][][] }
  properties: { cell: string; count: number }
}

export type HeatQuery = Omit<NonNullable<operations['heatmap_report']['parameters']['query']>, 'format'>

/** A person's day: the line of their punches, the stops, the distance. */
export async function loadRoute(userId: string, date: string): Promise<RouteDay> {
  return (await ok(api.GET('/api/v1/reports/route', { params: { query: { user_id: userId, date } } }))) as RouteDay
}

/** The heat map's H3 cells with their counts. */
export async function loadHeat(query: HeatQuery): Promise<HeatCell[]> {
  const fc = (await ok(api.GET('/api/v1/reports/heatmap', { params: { query: { ...query, format: 'geojson' } } }))) as { features: HeatCell[] }
  return fc.features
}
