// Shapes of the API objects more than one view reads.
export interface Agent {
  id: string;
  name: string;
  slug: string;
  cli_name?: string;
  is_enabled?: boolean;
  description?: string | null;
}
