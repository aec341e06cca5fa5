import { QueryClientProvider } from '@tanstack/react-query';
import { RouterProvider } from 'react-router';
import { AuthGate } from '../auth/AuthGate';
import { createQueryClient } from './queryClient';
import { getRouter } from './router';

const queryClient = createQueryClient();

export function App() {
  return (
    <QueryClientProvider client={queryClient}>
      <AuthGate>
        <RouterProvider router={getRouter()} />
      </AuthGate>
    </QueryClientProvider>
  );
}
