import { useQuery } from '@tanstack/react-query';
import { queryKeys, useApi } from '../lib/api';
import { useSession } from '../lib/session';

/** Who the token belongs to (local token or an API key) and its scopes. */
export function useWhoami() {
  const api = useApi();
  const token = useSession((s) => s.token) ?? '';
  return useQuery({
    queryKey: queryKeys.whoami(token),
    queryFn: () => api.call('auth.whoami'),
    staleTime: 60_000,
  });
}
